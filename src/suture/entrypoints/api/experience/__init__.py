"""Experience APIs (``/api/v1/experience``): views shaped for the people who use them."""
