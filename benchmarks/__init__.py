"""Benchmarks of debugpages against the error pages of werkzeug, Django and Starlette.

A package so that tests and the soak can import the failure corpus
(``benchmarks.corpus``) instead of keeping copies of it.
"""
