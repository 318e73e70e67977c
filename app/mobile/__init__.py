"""The couriers' phone page (随手拍 H5): photograph a hazard and report it, follow one's reports
and points; served by the app at ``/m/``."""
