"""The Notification aggregate (a message to one customer by one channel, queued once per source
event and channel), the notification templates, and the pure rules they follow: addresses,
SMS segmentation, template rendering in a sandbox."""
