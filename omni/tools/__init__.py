"""Coding-tool integrations: find Claude Code, Codex, opencode, gemini-cli, Droid,
OpenClaw and Cline on this machine and point their own config files at omni.

``runtime`` finds a tool's executable and whether it runs; ``places`` says where each
tool keeps its files; ``writers`` holds one pure function pair per tool (configure,
unconfigure) over the files' text; ``setup`` plans a change, shows it as a diff, applies
it with a backup and undoes it. Nothing here imports the server, the store or the CLI.
"""
