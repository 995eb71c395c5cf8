-- The users table, with the very name and columns that the Django reference
-- (app "api", model "User") creates, so that a db.sqlite3 made by the
-- reference is adopted as it is: IF NOT EXISTS keeps its rows, and the
-- schema check at start-up confirms its shape.
-- AUTOINCREMENT: an id is never handed out twice, even after a delete.
-- UNIQUE: the database, not the handler, has the last word on dni.
CREATE TABLE IF NOT EXISTS "api_user" (
  "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "dni" varchar(13) NOT NULL UNIQUE,
  "name" varchar(30) NOT NULL
);
