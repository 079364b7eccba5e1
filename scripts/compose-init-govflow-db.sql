-- govflow's governance DB lives beside Airflow's metadata DB on the same server.
CREATE DATABASE govflow OWNER airflow;
