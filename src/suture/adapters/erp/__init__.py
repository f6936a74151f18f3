"""The ERP connector: gateways to the ERP (DESIGN.md §8; services/erp.py is the port)."""
