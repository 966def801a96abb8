// The messaging half of the program: topology parsing, names, policies and the part components.
export * from "./topology";
export * from "./naming";
export * from "./policies";
export * from "./operations";
export { AlarmTopic, PartAlarms } from "./alarms";
export { Publisher } from "./publisher";
export { QueueSubscriber } from "./queue-subscriber";
export { DirectSubscriber } from "./direct-subscriber";
export { MessagingSystem, partProviders } from "./system";
export type { MessagingOutputs, PartProviders } from "./system";
