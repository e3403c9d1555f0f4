"""Peering between cooperatives (a trusted data space): the collections a home shares
outward with their usage policy (policy.py, shares.py), the catalogue that publishes them
(catalogue.py), the peers a home asks (registry.py), and the citations that cross between
them (citations.py)."""
