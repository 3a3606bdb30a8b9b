-- OMOP CDM 5.4 (PostgreSQL) for the tables the OMOP export writes, and the ECLS-CDM v0.2.0
-- ecls_run table; written for this project from the published specifications (OHDSI
-- CommonDataModel v5.4 field-level tables; ecls-cdm/cdm ddl/postgres/01_add_tables.sql),
-- columns, types and NOT NULL as published. @schema is replaced by the test's scratch schema.

CREATE TABLE @schema.person (
    person_id integer NOT NULL,
    gender_concept_id integer NOT NULL,
    year_of_birth integer NOT NULL,
    month_of_birth integer NULL,
    day_of_birth integer NULL,
    birth_datetime TIMESTAMP NULL,
    race_concept_id integer NOT NULL,
    ethnicity_concept_id integer NOT NULL,
    location_id integer NULL,
    provider_id integer NULL,
    care_site_id integer NULL,
    person_source_value varchar(50) NULL,
    gender_source_value varchar(50) NULL,
    gender_source_concept_id integer NULL,
    race_source_value varchar(50) NULL,
    race_source_concept_id integer NULL,
    ethnicity_source_value varchar(50) NULL,
    ethnicity_source_concept_id integer NULL
);

CREATE TABLE @schema.observation_period (
    observation_period_id integer NOT NULL,
    person_id integer NOT NULL,
    observation_period_start_date date NOT NULL,
    observation_period_end_date date NOT NULL,
    period_type_concept_id integer NOT NULL
);

CREATE TABLE @schema.visit_occurrence (
    visit_occurrence_id integer NOT NULL,
    person_id integer NOT NULL,
    visit_concept_id integer NOT NULL,
    visit_start_date date NOT NULL,
    visit_start_datetime TIMESTAMP NULL,
    visit_end_date date NOT NULL,
    visit_end_datetime TIMESTAMP NULL,
    visit_type_concept_id integer NOT NULL,
    provider_id integer NULL,
    care_site_id integer NULL,
    visit_source_value varchar(50) NULL,
    visit_source_concept_id integer NULL,
    admitted_from_concept_id integer NULL,
    admitted_from_source_value varchar(50) NULL,
    discharged_to_concept_id integer NULL,
    discharged_to_source_value varchar(50) NULL,
    preceding_visit_occurrence_id integer NULL
);

CREATE TABLE @schema.procedure_occurrence (
    procedure_occurrence_id integer NOT NULL,
    person_id integer NOT NULL,
    procedure_concept_id integer NOT NULL,
    procedure_date date NOT NULL,
    procedure_datetime TIMESTAMP NULL,
    procedure_end_date date NULL,
    procedure_end_datetime TIMESTAMP NULL,
    procedure_type_concept_id integer NOT NULL,
    modifier_concept_id integer NULL,
    quantity integer NULL,
    provider_id integer NULL,
    visit_occurrence_id integer NULL,
    visit_detail_id integer NULL,
    procedure_source_value varchar(50) NULL,
    procedure_source_concept_id integer NULL,
    modifier_source_value varchar(50) NULL
);

CREATE TABLE @schema.device_exposure (
    device_exposure_id integer NOT NULL,
    person_id integer NOT NULL,
    device_concept_id integer NOT NULL,
    device_exposure_start_date date NOT NULL,
    device_exposure_start_datetime TIMESTAMP NULL,
    device_exposure_end_date date NULL,
    device_exposure_end_datetime TIMESTAMP NULL,
    device_type_concept_id integer NOT NULL,
    unique_device_id varchar(255) NULL,
    production_id varchar(255) NULL,
    quantity integer NULL,
    provider_id integer NULL,
    visit_occurrence_id integer NULL,
    visit_detail_id integer NULL,
    device_source_value varchar(50) NULL,
    device_source_concept_id integer NULL,
    unit_concept_id integer NULL,
    unit_source_value varchar(50) NULL,
    unit_source_concept_id integer NULL
);

CREATE TABLE @schema.measurement (
    measurement_id integer NOT NULL,
    person_id integer NOT NULL,
    measurement_concept_id integer NOT NULL,
    measurement_date date NOT NULL,
    measurement_datetime TIMESTAMP NULL,
    measurement_time varchar(10) NULL,
    measurement_type_concept_id integer NOT NULL,
    operator_concept_id integer NULL,
    value_as_number NUMERIC NULL,
    value_as_concept_id integer NULL,
    unit_concept_id integer NULL,
    range_low NUMERIC NULL,
    range_high NUMERIC NULL,
    provider_id integer NULL,
    visit_occurrence_id integer NULL,
    visit_detail_id integer NULL,
    measurement_source_value varchar(50) NULL,
    measurement_source_concept_id integer NULL,
    unit_source_value varchar(50) NULL,
    unit_source_concept_id integer NULL,
    value_source_value varchar(50) NULL,
    measurement_event_id bigint NULL,
    meas_event_field_concept_id integer NULL
);

CREATE TABLE @schema.death (
    person_id integer NOT NULL,
    death_date date NOT NULL,
    death_datetime TIMESTAMP NULL,
    death_type_concept_id integer NULL,
    cause_concept_id integer NULL,
    cause_source_value varchar(50) NULL,
    cause_source_concept_id integer NULL
);

-- ECLS-CDM v0.2.0
CREATE TABLE @schema.ecls_run (
    run_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    visit_occurrence_id integer NOT NULL,
    visit_detail_id integer NULL,
    urgency_concept_id integer NOT NULL,
    start_reason_concept_id integer NOT NULL,
    stop_reason_concept_id integer NULL
);

-- primary keys (as the CDM's primary-key script) and the foreign keys to person and visit
-- (as its constraint script), so duplicate or dangling ids fail the load.
ALTER TABLE @schema.person ADD CONSTRAINT xpk_person PRIMARY KEY (person_id);
ALTER TABLE @schema.observation_period ADD CONSTRAINT xpk_observation_period PRIMARY KEY (observation_period_id);
ALTER TABLE @schema.visit_occurrence ADD CONSTRAINT xpk_visit_occurrence PRIMARY KEY (visit_occurrence_id);
ALTER TABLE @schema.procedure_occurrence ADD CONSTRAINT xpk_procedure_occurrence PRIMARY KEY (procedure_occurrence_id);
ALTER TABLE @schema.device_exposure ADD CONSTRAINT xpk_device_exposure PRIMARY KEY (device_exposure_id);
ALTER TABLE @schema.measurement ADD CONSTRAINT xpk_measurement PRIMARY KEY (measurement_id);
ALTER TABLE @schema.observation_period ADD CONSTRAINT fpk_observation_period_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.visit_occurrence ADD CONSTRAINT fpk_visit_occurrence_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.procedure_occurrence ADD CONSTRAINT fpk_procedure_occurrence_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.procedure_occurrence ADD CONSTRAINT fpk_procedure_occurrence_visit_occurrence_id FOREIGN KEY (visit_occurrence_id) REFERENCES @schema.visit_occurrence (visit_occurrence_id);
ALTER TABLE @schema.device_exposure ADD CONSTRAINT fpk_device_exposure_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.measurement ADD CONSTRAINT fpk_measurement_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.measurement ADD CONSTRAINT fpk_measurement_visit_occurrence_id FOREIGN KEY (visit_occurrence_id) REFERENCES @schema.visit_occurrence (visit_occurrence_id);
ALTER TABLE @schema.death ADD CONSTRAINT fpk_death_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_run ADD CONSTRAINT fpk_ecls_run_person_id FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_run ADD CONSTRAINT fpk_ecls_run_visit_occurrence_id FOREIGN KEY (visit_occurrence_id) REFERENCES @schema.visit_occurrence (visit_occurrence_id);

-- ECLS-CDM v0.2.0: the other core and support tables the export fills
-- (ecls-cdm/cdm ddl/postgres/01_add_tables.sql, 02_add_constraints.sql and
-- 03_add_extra_constraints.sql: columns, types, NOT NULL, primary keys, the keys between
-- ECLS tables and to person, the tubing-size CHECK; keys to OMOP's concept table are left
-- out as for the tables above: the test loads no vocabulary).
CREATE TABLE @schema.ecls_circuit (
    circuit_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    run_id integer NOT NULL,
    tubing_size_in_inches numeric(5, 4) NOT NULL,
    priming_solution_concept_id integer NOT NULL,
    stop_reason_concept_id integer NULL,
    CONSTRAINT check_circuit_tubing_size CHECK (tubing_size_in_inches IN (0.1875, 0.25, 0.375, 0.5))
);

CREATE TABLE @schema.ecls_mode (
    mode_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    circuit_id integer NOT NULL,
    mode_concept_id integer NOT NULL
);

CREATE TABLE @schema.ecls_blood_pump_material (
    material_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    manufacturer text NOT NULL,
    type_concept_id integer NOT NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_cannula_material (
    material_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    manufacturer text NOT NULL,
    type_concept_id integer NOT NULL,
    diameter_in_french integer NOT NULL,
    length_in_centimeters integer NOT NULL,
    coating text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_console_material (
    material_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    manufacturer text NOT NULL,
    type_concept_id integer NOT NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_membrane_lung_material (
    material_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    manufacturer text NOT NULL,
    type_concept_id integer NOT NULL,
    coating text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_temperature_regulation_device_material (
    material_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    manufacturer text NOT NULL,
    type_concept_id integer NOT NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_blood_pump (
    blood_pump_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    stop_reason_concept_id integer NULL,
    material_id integer NOT NULL,
    sn text NULL,
    lot text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_console (
    console_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    stop_reason_concept_id integer NULL,
    material_id integer NOT NULL,
    sn text NULL,
    lot text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_membrane_lung (
    membrane_lung_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    priming_solution_concept_id integer NOT NULL,
    stop_reason_concept_id integer NULL,
    material_id integer NOT NULL,
    sn text NULL,
    lot text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_temperature_regulation_device (
    temperature_regulation_device_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    stop_reason_concept_id integer NULL,
    material_id integer NOT NULL,
    sn text NULL,
    lot text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_cannula (
    cannula_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    flow_direction_concept_id integer NOT NULL,
    location_concept_id integer NOT NULL,
    laterality_concept_id integer NULL,
    insertion_concept_id integer NOT NULL,
    insertion_length_in_centimeters integer NOT NULL,
    tip_position_concept_id integer NOT NULL,
    tip_position_laterality_concept_id integer NULL,
    removal_concept_id integer NULL,
    stop_reason_concept_id integer NULL,
    material_id integer NOT NULL,
    sn text NULL,
    lot text NULL,
    ref text NULL,
    udi text NULL
);

CREATE TABLE @schema.ecls_circuit_component (
    circuit_component_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_datetime timestamptz NOT NULL,
    stop_datetime timestamptz NULL,
    person_id integer NOT NULL,
    circuit_id integer NOT NULL,
    component_type_concept_id integer NOT NULL,
    component_id integer NOT NULL,
    CONSTRAINT component_unique_for_circuit UNIQUE (circuit_id, component_id, component_type_concept_id)
);

ALTER TABLE @schema.ecls_circuit ADD CONSTRAINT ecls_circuit_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_circuit ADD CONSTRAINT ecls_circuit_run_id_fkey FOREIGN KEY (run_id) REFERENCES @schema.ecls_run (run_id);
ALTER TABLE @schema.ecls_mode ADD CONSTRAINT ecls_mode_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_mode ADD CONSTRAINT ecls_mode_circuit_id_fkey FOREIGN KEY (circuit_id) REFERENCES @schema.ecls_circuit (circuit_id);
ALTER TABLE @schema.ecls_blood_pump ADD CONSTRAINT blood_pump_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_blood_pump ADD CONSTRAINT ecls_blood_pump_material_id_fkey FOREIGN KEY (material_id) REFERENCES @schema.ecls_blood_pump_material (material_id);
ALTER TABLE @schema.ecls_cannula ADD CONSTRAINT ecls_cannula_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_cannula ADD CONSTRAINT ecls_cannula_material_id_fkey FOREIGN KEY (material_id) REFERENCES @schema.ecls_cannula_material (material_id);
ALTER TABLE @schema.ecls_console ADD CONSTRAINT ecls_console_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_console ADD CONSTRAINT ecls_console_material_id_fkey FOREIGN KEY (material_id) REFERENCES @schema.ecls_console_material (material_id);
ALTER TABLE @schema.ecls_membrane_lung ADD CONSTRAINT ecls_membrane_lung_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_membrane_lung ADD CONSTRAINT ecls_membrane_lung_material_id_fkey FOREIGN KEY (material_id) REFERENCES @schema.ecls_membrane_lung_material (material_id);
ALTER TABLE @schema.ecls_temperature_regulation_device ADD CONSTRAINT ecls_temperature_regulation_device_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_temperature_regulation_device ADD CONSTRAINT ecls_temperature_regulation_device_material_id_fkey FOREIGN KEY (material_id) REFERENCES @schema.ecls_temperature_regulation_device_material (material_id);
ALTER TABLE @schema.ecls_circuit_component ADD CONSTRAINT ecls_circuit_component_person_id_fkey FOREIGN KEY (person_id) REFERENCES @schema.person (person_id);
ALTER TABLE @schema.ecls_circuit_component ADD CONSTRAINT ecls_circuit_component_circuit_id_fkey FOREIGN KEY (circuit_id) REFERENCES @schema.ecls_circuit (circuit_id);
