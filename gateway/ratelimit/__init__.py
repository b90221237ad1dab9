"""Request and token limits per key and per team over a sliding window.

Two backends behind :class:`gateway.ratelimit.base.RateLimiter`: in-process
(:mod:`.memory`, one gateway process) and Redis (:mod:`.redis`, shared by every
replica, one atomic script per admission). :mod:`.policy` turns a caller into the
limits that apply and the ``x-ratelimit-*`` headers.
"""
