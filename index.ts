// Entry point: validate config, build providers, create the parts this stack owns, export outputs.
// The messaging and research parts each own their config and components; see messaging/ and research/.
