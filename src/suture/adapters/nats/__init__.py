"""NATS JetStream as the distributed event stream of the scale-out topology (DESIGN.md §8).

``stream.py`` is the stream (subjects, de-duplication, the shared pull consumer), ``worker.py``
the loops of a ``suture worker`` process: relay, consumer and sweeper.
"""
