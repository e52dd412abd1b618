"""Widgets shared by the dashboard's views: the title bar and banner, tables that keep
their cursor across refreshes, and the dialogs (forms, confirmations, details)."""
