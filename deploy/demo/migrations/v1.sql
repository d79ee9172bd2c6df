-- Version 1 of the demo service: people with a single `name`, and the version table
-- handover reads and writes.

-- handover:expand
CREATE TABLE people (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

CREATE TABLE app_version (
  version VARCHAR(64) NOT NULL
) ENGINE=InnoDB;

-- handover:expand-undo
DROP TABLE IF EXISTS app_version;
DROP TABLE IF EXISTS people;
