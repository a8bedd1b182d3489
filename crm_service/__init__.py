"""CRM notification service: records booking notifications and emails attendees and facilitators."""
