"""Benchmarks of the realtime chat server against a bare python-socketio app.

Run ``python -m benchmarks --help``; see benchmarks/README.md.
"""
