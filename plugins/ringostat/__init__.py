"""Ringostat call tracking and virtual PBX (docs/telephony.md)."""
