/** The contract's fields both factory forms show: the CFE plan's and the factory edit's. */
import { useTranslation } from "react-i18next";
import { Field } from "./fields";

type ContractFieldsProps = {
  /** The factory's contract as stored: the fields start from it. */
  factory: { contractedDemandKw: number | null; supplyVoltage: "medium" | "high" | null };
  /** Where the words are: `${prefix}.contractedDemand`, `${prefix}.supplyVoltage`, `${prefix}.voltage.medium|high` in `namespace`. */
  namespace: string;
  prefix: string;
  /**
   * true: the voltage may stay unset ("—", the empty value), and a factory without one starts there (the factory edit);
   * false: a voltage is required and a factory without one starts at medium, CFE's GDMT supply (the CFE plan).
   */
  optionalVoltage: boolean;
};

/**
 * The contracted demand (kW, any decimal) and the supply voltage (medium 1–35 kV, high above: it sets the
 * power-factor threshold) as two Fields of the FieldForm around, named as the API names them (`contractedDemandKw`,
 * `supplyVoltage`) so a refusal shows beside them. Example:
 * `<div className="row"><ContractFields factory={factory} namespace="tariffs" prefix="plan" optionalVoltage={false} /></div>`
 */
export function ContractFields({ factory, namespace, prefix, optionalVoltage }: ContractFieldsProps) {
  const { t } = useTranslation(namespace);
  return (
    <>
      <Field label={t(`${prefix}.contractedDemand`)} path="contractedDemandKw">
        <input name="contractedDemandKw" type="number" step="any" defaultValue={factory.contractedDemandKw ?? ""} />
      </Field>
      <Field label={t(`${prefix}.supplyVoltage`)} path="supplyVoltage">
        <select name="supplyVoltage" defaultValue={factory.supplyVoltage ?? (optionalVoltage ? "" : "medium")}>
          {optionalVoltage && <option value="">—</option>}
          <option value="medium">{t(`${prefix}.voltage.medium`)}</option>
          <option value="high">{t(`${prefix}.voltage.high`)}</option>
        </select>
      </Field>
    </>
  );
}
