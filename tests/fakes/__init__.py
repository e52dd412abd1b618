"""Test doubles for omni: in-process fakes of the services the gateway talks to.

`tests.fakes.upstream.FakeUpstream` is a scriptable LLM provider speaking the OpenAI Chat,
OpenAI Responses, Anthropic Messages, Gemini and Ollama wire formats on localhost.
"""
