/** Switchboard's version, reported in the CapabilityStatement and on the status page. Keep in step with package.json. */
export const SOFTWARE_VERSION = '0.1.0';
