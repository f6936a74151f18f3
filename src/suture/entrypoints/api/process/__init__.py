"""Process APIs (``/api/v1/process``): business operations a person or a system runs."""
