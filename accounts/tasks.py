"""Background work of the accounts app. (The scheduler's heartbeat moved to crm/tasks.py.)"""
