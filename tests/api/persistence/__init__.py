"""Migrations and transactions."""
