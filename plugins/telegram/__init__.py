"""Telegram bot: two-way chat with customers, the share-phone flow, notifications with consent."""
