"""Suishoupai (随手拍): grassroots hazard reporting."""
