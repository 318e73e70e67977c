"""Open311 GeoReport v2 at ``/open311/v2``: the open standard of civic issue reporting, so that
existing Open311 clients and city back-offices read (and, later, file) cases without custom code."""
