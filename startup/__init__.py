"""Starting and stopping the server: settings from the environment, what
create_app starts and stops, serving until a signal, the health probe."""
