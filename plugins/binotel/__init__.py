"""Binotel cloud PBX: call events to the timeline, click-to-call."""
