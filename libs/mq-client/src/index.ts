export { consume, createMqClient, type ConsumeOptions, type MqClient, type MqTask, type TaskContext } from './mq-client';
