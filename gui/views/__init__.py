"""The app's widgets: the main window, one module per screen, dialogs."""
