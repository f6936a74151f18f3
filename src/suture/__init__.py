"""Suture: the integration hub between revenue cycle, supply chain, inventory and ERP finance."""
