"""Typed keys under which the aiohttp application keeps the emulated cloud."""

from __future__ import annotations

from aiohttp import web

from cloud_client.emulator.cloud import EmulatedCloud

CLOUD: web.AppKey[EmulatedCloud] = web.AppKey("cloud", EmulatedCloud)
