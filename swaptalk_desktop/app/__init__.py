"""What the editor drives, without Qt: the processing host and its client, the job progress
every view shows, playback's cached frames, preferences, media import, the timeline's data
model and the user's error lines. ``ui/`` holds the widgets over it and reaches the engine only
through here."""
