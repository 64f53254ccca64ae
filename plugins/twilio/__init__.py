"""Twilio Programmable Messaging: SMS with delivery status callbacks."""
