export { apiTokenTable } from "../auth/auth.sql";
export { deviceTable } from "../device/device.sql";
export { factoryTable } from "../factory/factory.sql";
export { meterTable } from "../meter/meter.sql";
export { organizationTable } from "../organization/organization.sql";
export { quarantineTable } from "../quarantine/quarantine.sql";
export { readingTable } from "../reading/reading.sql";
export { tariffTable } from "../tariff/tariff.sql";
