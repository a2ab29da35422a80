import { describe, expect, test } from "vitest";
import { Location } from "../src/location";
import { isTimeZone } from "../src/time";

describe("municipality catalogue", () => {
  test("San Luis Río Colorado bills in the Baja California division and schedule on Sonora's clock", () => {
    expect(Location.resolve({ state: "Sonora", municipality: "San Luis Rio Colorado" })).toMatchObject({
      zone: "baja-california",
      timeZone: "America/Hermosillo",
      division: "Baja California",
    });
  });

  test.each([
    ["Sonora", "Hermosillo", "central", "America/Hermosillo", "Noroeste"],
    ["Sinaloa", "Culiacán", "central", "America/Mazatlan", "Noroeste"],
    ["Quintana Roo", "Benito Juárez", "central", "America/Cancun", "Peninsular"],
    ["Baja California Sur", "La Paz", "baja-california-sur", "America/Mazatlan", "Baja California Sur"],
    ["Baja California", "Tijuana", "baja-california", "America/Tijuana", "Baja California"],
    ["Chihuahua", "Juárez", "central", "America/Ciudad_Juarez", "Norte"],
    ["Chihuahua", "Ojinaga", "central", "America/Ojinaga", "Norte"],
    ["Tamaulipas", "Reynosa", "central", "America/Matamoros", "Golfo Norte"],
    ["Nayarit", "Bahía de Banderas", "central", "America/Bahia_Banderas", "Jalisco"],
    ["Nuevo León", "Monterrey", "central", "America/Monterrey", "Golfo Norte"],
  ])("%s / %s: %s schedule on %s, %s division", (state, municipality, zone, timeZone, division) => {
    expect(Location.resolve({ state, municipality })).toMatchObject({ zone, timeZone, division });
  });

  test("an inconsistent clock is refused with the right one", () => {
    expect(() => Location.resolve({ state: "Sonora", municipality: "Hermosillo", timeZone: "America/Mexico_City" })).toThrow(
      expect.objectContaining({ path: "timeZone", message: "Hermosillo (Sonora) is on America/Hermosillo, not America/Mexico_City" }),
    );
    expect(() => Location.resolve({ zone: "baja-california", timeZone: "America/Mexico_City" })).toThrow(
      expect.objectContaining({
        path: "timeZone",
        message: "the baja-california schedule is read on America/Hermosillo or America/Tijuana, not America/Mexico_City",
      }),
    );
  });

  test("an inconsistent schedule zone or division is refused with the right one", () => {
    expect(() => Location.resolve({ state: "Sonora", municipality: "Puerto Peñasco", zone: "central" })).toThrow(
      "Puerto Peñasco (Sonora) bills on the baja-california schedule, not central",
    );
    expect(() => Location.resolve({ state: "Ciudad de México", municipality: "Azcapotzalco", division: "Valle de México Sur" })).toThrow(
      "Azcapotzalco (Ciudad de México) is billed in the Valle de México Norte or Valle de México Centro division, not Valle de México Sur",
    );
  });

  test("a municipality CFE splits between divisions takes its division from the caller", () => {
    expect(Location.resolve({ state: "Ciudad de Mexico", municipality: "Azcapotzalco" }).division).toBeUndefined();
    expect(Location.resolve({ state: "Ciudad de Mexico", municipality: "Azcapotzalco", division: "valle de mexico norte" }).division).toBe(
      "Valle de México Norte",
    );
  });

  test("a division alone gives the clock only when its municipalities share one", () => {
    expect(Location.resolve({ division: "Baja California Sur" })).toEqual({
      zone: "baja-california-sur",
      timeZone: "America/Mazatlan",
      division: "Baja California Sur",
    });
    expect(() => Location.resolve({ division: "Noroeste" })).toThrow(
      "the Noroeste division spans clocks America/Hermosillo or America/Mazatlan: give the municipality or the time zone",
    );
    expect(Location.resolve({ division: "Noroeste", timeZone: "America/Hermosillo" }).zone).toBe("central");
  });

  test("covers every municipality off Mexico City's clock: all of BC, BCS, Sonora (as CFE lists it), Sinaloa, Nayarit, Quintana Roo and the 36 border municipalities", () => {
    const count = (state: string) => Location.municipalities.filter((entry) => entry.state === state).length;
    // Ley de los Husos Horarios (2022): 7 + 8 + 11 + 1 + 10 municipalities keep the US clock changes (rexnews.mx/?p=2099).
    const border = Location.municipalities.filter((entry) =>
      ["America/Tijuana", "America/Ciudad_Juarez", "America/Ojinaga", "America/Matamoros"].includes(entry.timeZone),
    );
    expect(border).toHaveLength(7 + 8 + 11 + 1 + 10);
    expect([count("Baja California Sur"), count("Sonora"), count("Sinaloa"), count("Nayarit"), count("Quintana Roo")]).toEqual([5, 70, 17, 20, 11]);
    for (const entry of Location.municipalities) expect(isTimeZone(entry.timeZone), entry.timeZone).toBe(true);
    expect(new Set(Location.municipalities.flatMap((entry) => entry.divisions)).size).toBe(17);
  });
});
