"""Folium map builders and the offline web assets they need."""
