-- 003_incident_police_room.sql — the police room responsible for an incident (the nearest one
-- when it was recorded), resolved by the engine like its grid.
ALTER TABLE incidents ADD COLUMN police_room TEXT;
CREATE INDEX incidents_police_room ON incidents (police_room);
