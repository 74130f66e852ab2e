"""Build the course's static site from a real run of every lesson (``tools/build_site.py``)."""
