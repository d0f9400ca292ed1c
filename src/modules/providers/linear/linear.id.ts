/** This provider's id: its registry key, stored in every row that names a provider. */
export const LINEAR = 'linear' as const;
