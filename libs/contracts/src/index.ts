// Messages and service descriptors generated from proto/, one namespace per package.
export * from './gen';
