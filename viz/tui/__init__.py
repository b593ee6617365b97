"""The Textual front end: a process tree, the events of the selected process, their meaning, and a walkthrough.

Import `viz.tui.app` for the entry points (`run_recording_tui`, `run_live_tui`, `BoxtraceApp`); this package
itself imports nothing heavy so `import viz.tui` stays cheap.
"""
