"""The SMTP receiver: our own asyncio ESMTP engine, listeners, STARTTLS, AUTH and -bs mode."""
