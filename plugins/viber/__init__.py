"""Viber bot: two-way chat with customers, the share-phone flow, delivery and read reports."""
