"""TurboSMS (turbosms.ua): SMS and Viber with SMS fallback, delivery statuses by polling."""
