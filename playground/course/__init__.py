"""The Course page's wing: one lesson per topic of the lecture notes, in their order.

``LESSONS`` is the whole course (lessons 1–9 in :mod:`.basics`, 10–15 in :mod:`.networks`);
:mod:`.model` holds the lesson record and the progress in the address. Pure Python.
"""
from playground.course.basics import LESSONS as _BASICS
from playground.course.networks import LESSONS as _NETWORKS

LESSONS = _BASICS + _NETWORKS
