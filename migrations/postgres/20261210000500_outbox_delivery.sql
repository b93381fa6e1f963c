-- How a sent message left: 'smtp' (handed to the mail server) or 'folder'
-- (written as a .eml file, not sent). NULL until sent.
ALTER TABLE outbox ADD COLUMN delivery TEXT;
