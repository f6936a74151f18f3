"""The HTTP entrypoint: FastAPI routers of the System, Process and Experience APIs.

:func:`~suture.entrypoints.api.app.create_app` builds the application;
:class:`~suture.entrypoints.api.server.HttpThread` serves it on uvicorn beside the other edges.
"""
