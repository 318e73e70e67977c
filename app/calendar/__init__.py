"""The working calendar as data: days administrators set, shared by every process."""
