"""Accounting: energy and carbon of every request, the ledger, and the monthly statement."""
