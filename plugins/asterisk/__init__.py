"""Asterisk over AMI (docs/telephony.md)."""
