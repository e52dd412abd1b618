"""The terminal dashboard (``omni tui``): watch and steer a running gateway live.

A Textual app that is a client of the management API only: it talks HTTP to the server
(:mod:`omni.tui.client`) and never imports the server, gateway, store or admin services,
so it can watch a remote gateway as well as the local one. Views live in
:mod:`omni.tui.views`, shared widgets and dialogs in :mod:`omni.tui.widgets`, the live
request history and its sums in :mod:`omni.tui.live`.
"""
