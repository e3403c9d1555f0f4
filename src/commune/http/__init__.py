"""HTTP plumbing shared by the faces that speak HTTP (the API and the web pages), below both."""
