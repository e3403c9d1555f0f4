"""The API's routes, one module per concern; each reaches the facade through
``commune.http.deps.CommuneDep`` and the caller through ``commune.api.auth.Caller``."""
