#!/usr/bin/env python3
"""Own-words `description` for every property of every component schema.

Used by draft.py (``describe(spec)``, run after the details merge). Every text here is
written for this project: the docs supply facts (field names, types, limits, units,
allowed values, relation targets), never sentences. A description is

    <meaning from the tables below> + <facts read from the property's own schema>

so limits, units, formats and flags always agree with the schema next to them. A
description already present in the spec is kept as it is.

Also gives every model (and approval and details) schema an ``x-brainstem-docs-url``:
the page of the public docs site (support.brainstem.org, whose pages sit at
/api/<app>/<page>/ and /api/schemas/<group>/) that documents it.

Rustdoc reads these texts: no square brackets (intra-doc links), no angle brackets
(HTML), no bare URLs.
"""
from __future__ import annotations

import re

DOCS_SITE = "https://support.brainstem.org"


def model_docs_url(app: str, page_file: str) -> str:
    return f"{DOCS_SITE}/api/{app}/{page_file.removesuffix('.md')}/"


def schemas_docs_url(page: str) -> str:
    return f"{DOCS_SITE}/api/schemas/{page}/"


# ============================================================================
# Model fields. COMMON: by field name ({model} = the model's display name).
# MODEL_FIELDS: (model key, field) when the meaning differs from COMMON.
# ============================================================================
COMMON = {
    "id": "Identifier of this {model}, assigned by the server.",
    "name": "Name of this {model}.",
    "description": "Free-text description of this {model}.",
    "tags": "Free-form labels attached to this {model}, usable as a filter.",
    "notes": "Free-text remarks about this {model}.",
    "comments": "Remark sent along with a proposed change, for the reviewer; used only while the change awaits approval.",
    "is_public": "Whether this {model} is visible to everyone, not only to users with access.",
    "extra_fields": "User-defined key/value metadata of this {model}: keys start with a letter and hold letters, digits and underscores; values are strings or numbers.",
    "links": "Relation routes of this {model}: relation name mapped to the URL suffix that lists the related records.",
    "projects": "Projects this {model} belongs to.",
    "project": "Project this {model} belongs to.",
    "session": "Session this {model} belongs to.",
    "sessions": "Sessions of this {model}.",
    "subject": "Subject this {model} belongs to.",
    "subjects": "Subjects of this {model}.",
    "procedures": "Procedures linked to this {model}.",
    "equipment": "Equipment items used for this {model}.",
    "licenses": "Licenses or permits covering this {model}.",
    "publications": "Publications that report on this {model}.",
    "setup": "Experimental setup where this {model} took place.",
    "supplier": "Supplier of this {model}.",
    "species": "Species this {model} belongs to.",
    "consumable": "Catalogue consumable this {model} is an instance of.",
    "website": "Web site address of this {model}.",
    "rrid": "Research Resource Identifier (RRID) of this {model}.",
    "rrid_url": "Link to the RRID portal page of the rrid, computed by the server.",
    "external_identifiers": "Cross-references of this {model} in external databases: one row per reference (source, identifier, optional URL).",
    "type": "Kind of {model}; selects the schema that `details` must follow.",
    "details": "Type-specific payload of this {model}; its shape is chosen by `type` (see the typed details schemas).",
    "type_schema_version": "Version of the `details` schema the payload was written against (semantic version text such as 1.1.0).",
    "coordinates_system": "Coordinate system of the placement; selects the schema that `coordinates_details` must follow.",
    "coordinates_details": "Placement coordinates in the system named by `coordinates_system` (see the typed coordinates schemas).",
    "coordinates_schema_version": "Version of the `coordinates_details` schema the payload was written against.",
    "order": "Position of this {model} among the records of the same session, for display.",
    "date_time": "When this {model} took place.",
    "location": "Where this {model} is, in words (building, room, host...).",
    "country": "Country of this {model}.",
    "status": "Current status of this {model}.",
    "entries": "The log entries; managed with the add_entry, change_entry and remove_entry actions, not by writing this list.",
    "image": "Address of an image uploaded for this {model}.",
    "users": "Members of this {model}, keyed by member, with their permission flags.",
    "category": "Category of this {model}.",
    "can_change": "Whether the invitee may edit the project's records once the invitation is accepted.",
    "manage_project": "Whether the invitee becomes a manager of the project (may change memberships).",
    "own_project": "Whether the invitee becomes an owner of the project.",
    "invitee": "Who is invited.",
    "setup_type": "Setup type (taxonomy entry) this {model} is built on.",
    "name_used_in_storage": "Name under which the data of this {model} is stored (folder or file prefix).",
    "birth_date": "Date of birth.",
    "authgroup": "Group concerned.",
}

MODEL_FIELDS = {
    # --- stem ---
    ("project", "name"): "Name of the project.",
    ("project", "sessions"): "Sessions of the project (a session joins through its own projects list).",
    ("project", "subjects"): "Subjects of the project (a subject joins through its own projects list).",
    ("project", "collections"): "Collections defined in the project.",
    ("project", "cohorts"): "Cohorts defined in the project.",
    ("project", "users"): "Users with access to the project, keyed by e-mail address, with their permission flags. In a change, flags left out count as false and remove: true drops the user.",
    ("project", "groups"): "Groups with access to the project, keyed by group name, with their permission flags. In a change, flags left out count as false and remove: true drops the group.",
    ("project", "is_public"): "Whether the project and its records are published for everyone to read (public portal).",
    ("subject", "name"): "Name of the subject.",
    ("subject", "projects"): "Projects that include the subject; at least one is needed.",
    ("subject", "strain"): "Strain of the subject (which also gives its species).",
    ("subject", "sex"): "Sex of the subject: F (female), M (male) or U (unknown).",
    ("subject", "genetic_line"): "Genetic line of the subject, in words.",
    ("subject", "genotype"): "Genotype of the subject, in words.",
    ("subject", "subject_identifier"): "The lab's own identifier of the subject.",
    ("subject", "supplier"): "Supplier (vendor) the subject came from.",
    ("subject", "breeding"): "Breeding (parent pair) the subject was born from.",
    ("subject", "birth_date"): "Date of birth of the subject.",
    ("subject", "death_date"): "Date of death of the subject.",
    ("subject", "status"): "Lifecycle status of the subject, such as active.",
    ("subject", "procedures"): "Procedures the subject underwent.",
    ("subject", "subjectlogs"): "Logs kept about the subject.",
    ("session", "name"): "Name of the session.",
    ("session", "projects"): "Projects that include the session; at least one is needed.",
    ("session", "date_time"): "Start of the session.",
    ("session", "epochs"): "Epochs (time segments) of the session; no endpoint documents them, so the ids are opaque.",
    ("session", "datastorage"): "Data storages holding the session's data, in their through-table order; send a list on create or change, and reorder with the session data storage endpoint.",
    ("session", "download_links"): "Places where the session's data or code can be downloaded.",
    ("session", "dataacquisition"): "Data acquisitions recorded in the session.",
    ("session", "behaviors"): "Behaviors run in the session.",
    ("session", "manipulations"): "Manipulations applied in the session.",
    ("session", "name_used_in_storage"): "Name of the session's data in storage (folder or file prefix).",
    ("collection", "project"): "Project the collection is defined in.",
    ("collection", "sessions"): "Sessions grouped by the collection.",
    ("cohort", "project"): "Project the cohort is defined in.",
    ("cohort", "subjects"): "Subjects grouped by the cohort.",
    ("breeding", "name"): "Name of the breeding pair.",
    ("breeding", "project"): "Project under which the breeding is recorded.",
    ("breeding", "mother"): "Female parent subject.",
    ("breeding", "father"): "Male parent subject.",
    ("breeding", "birth_date"): "Date the litter was born.",
    ("breeding", "start_date"): "Date the pair was put together.",
    ("breeding", "end_date"): "Date the pair was separated.",
    ("breeding", "weaning_date"): "Date the litter was weaned.",
    ("breeding", "litter_size"): "Number of pups in the litter.",
    ("breeding", "expected_genotype"): "Genotype expected for the offspring, in words.",
    ("project_membership_invitation", "invitee"): "User invited to join the project.",
    ("project_membership_invitation", "project"): "Project the user is invited to.",
    ("project_group_membership_invitation", "invitee"): "Group invited to join the project.",
    ("project_group_membership_invitation", "project"): "Project the group is invited to.",
    # --- modules ---
    ("behavior", "session"): "Session in which the behavior was run.",
    ("behavior", "subjects"): "Subjects that took part in the behavior.",
    ("behavior", "setup"): "Setup on which the behavior was run.",
    ("behavior", "behavioralassay"): "Behavioral assay that was run.",
    ("consumablestock", "type"): "Kind of stock; selects the schema that `details` must follow.",
    ("consumablestock", "status"): "Availability of the stock, for example AVAILABLE, RESERVED or DEPLETED.",
    ("consumablestock", "inventory"): "Inventory that holds the stock.",
    ("consumablestock", "acquisition_date"): "Date the stock was acquired.",
    ("consumablestock", "expiration_date"): "Date the stock expires.",
    ("consumablestock", "storage_location"): "Where the stock is kept (room, fridge, shelf...).",
    ("consumablestock", "storage_conditions"): "How the stock must be kept (temperature, light...).",
    ("consumablestock", "intended_use"): "What the stock is meant to be used for.",
    ("consumablestock", "cost"): "Cost of the stock, as text (amount and currency).",
    ("consumablestock", "consumable"): "Catalogue consumable this stock is an instance of.",
    ("dataacquisition", "type"): "Recording modality; selects the schema that `details` must follow.",
    ("dataacquisition", "session"): "Session in which the data was recorded.",
    ("dataacquisition", "procedures"): "Procedures linked to the recording.",
    ("dataacquisition", "equipment"): "Equipment used for the recording.",
    ("dataacquisition", "image"): "Address of an image uploaded for the data acquisition.",
    ("equipment", "name"): "Descriptive name of the equipment item.",
    ("equipment", "type"): "Kind of equipment; selects the schema that `details` must follow.",
    ("equipment", "setup"): "Setup the equipment belongs to.",
    ("equipment", "date_time"): "Date and time recorded for the equipment item.",
    ("equipment", "consumable"): "Catalogue consumable the equipment item is made of, if any.",
    ("equipment", "hardwaredevice"): "Catalogue hardware device the equipment item is, if any.",
    ("manipulation", "type"): "Kind of manipulation; selects the schema that `details` must follow.",
    ("manipulation", "procedures"): "Procedures linked to the manipulation.",
    ("manipulation", "session"): "Session in which the manipulation was applied.",
    ("manipulation", "equipment"): "Equipment items involved in the manipulation.",
    ("manipulation", "details"): "Type-specific parameters of the manipulation: a list of rows whose shape is chosen by `type`.",
    ("procedure", "type"): "Kind of procedure; selects the schema that `details` must follow.",
    ("procedure", "subject"): "Subject who underwent the procedure.",
    ("procedure", "date_time"): "When the procedure was performed.",
    ("procedure", "consumablestock"): "Stock item consumed or implanted during the procedure.",
    ("procedure", "equipment"): "Equipment items involved in the procedure.",
    ("procedure", "brain_region"): "Brain region the procedure targets.",
    ("procedure", "created_at"): "When the record was created.",
    ("procedure", "updated_at"): "When the record was last changed.",
    ("procedurelog", "type"): "Kind of log; selects the schema of each entry's `details`.",
    ("procedurelog", "description"): "Free-text description of the log.",
    ("procedurelog", "procedure"): "Procedure the log is about.",
    ("subjectlog", "type"): "Kind of log; selects the schema of each entry's `details` and whether entries are instants or intervals.",
    ("subjectlog", "description"): "Free-text description of the log.",
    ("subjectlog", "subject"): "Subject the log is about.",
    ("subjectlog", "user"): "Account that created the log.",
    # --- personal attributes ---
    ("behavioralassay", "setup_type"): "Kind of setup the assay runs on.",
    ("behavioralassay", "behavioral_paradigm"): "Behavioral paradigm the assay implements.",
    ("behavioralassay", "licenses"): "Licenses that cover the assay.",
    ("datastorage", "location"): "Where the storage is (server, drive, cloud service...).",
    ("datastorage", "data_organization"): "Folder levels under the storage root, top level first (for example Sessions, then Subjects).",
    ("datastorage", "data_protocols"): "Ways to reach the storage: one row per access protocol with its path and whether it is public.",
    ("inventory", "location"): "Where the inventory is kept.",
    ("license", "name"): "Name of the license or permit.",
    ("license", "type"): "Kind of authorization the license grants.",
    ("license", "status"): "Lifecycle status of the license; a new license starts as draft.",
    ("license", "description"): "Description of the license (rich text).",
    ("license", "country"): "Country where the license applies, as an ISO 3166-1 alpha-2 code (two letters).",
    ("license", "regulatory_authority"): "Regulatory body that granted the license.",
    ("license", "license_number"): "Number or reference the authority gave the license.",
    ("license", "license_document"): "Uploaded document of the license (a PDF is advised).",
    ("license", "valid_from"): "First day the license is valid.",
    ("license", "valid_until"): "Last day the license is valid; not before valid_from when both are set.",
    ("license", "license_holders"): "Users who hold the license.",
    ("license", "behavioralassays"): "Behavioral assays the license covers.",
    ("license", "subjects"): "Subjects the license covers.",
    ("license", "procedures"): "Procedures the license covers.",
    ("setup", "location"): "Where the setup is (building, room...).",
    ("setup", "specifications"): "Named specifications of the setup, one row per property (name, value, optional description).",
    ("setup", "image"): "Address of a picture of the setup, or null.",
    # --- resources ---
    ("consumable", "name"): "Product name of the consumable.",
    ("consumable", "type"): "Kind of consumable; selects the schema that `details` must follow.",
    ("consumable", "details"): "Type-specific product data of the consumable; its shape is chosen by `type`.",
    ("hardwaredevice", "name"): "Product name of the device.",
    ("supplier", "name"): "Name of the supplier.",
    ("supplier", "website"): "Web site of the supplier.",
    # --- taxonomies ---
    ("behavioralcategory", "name"): "Name of the category.",
    ("behavioralcategory", "parent"): "Parent category; null for a top-level category.",
    ("behavioralparadigm", "name"): "Name of the paradigm.",
    ("behavioralparadigm", "category"): "Behavioral category the paradigm falls under.",
    ("behavioralparadigm", "species"): "Species the paradigm is used with.",
    ("behavioralparadigm", "original_publication"): "Publication that first described the paradigm, as a citation text.",
    ("behavioralparadigm", "reference_url"): "Link to a reference describing the paradigm.",
    ("brainregion", "name"): "Full name of the brain region.",
    ("brainregion", "acronym"): "Abbreviated name of the region in its atlas.",
    ("brainregion", "atlas"): "Reference atlas the region is defined in (a short code).",
    ("regulatoryauthority", "name"): "Name of the authority.",
    ("regulatoryauthority", "abbreviation"): "Short name of the authority.",
    ("regulatoryauthority", "country"): "Country of the authority, as an ISO 3166-1 alpha-2 code (two letters).",
    ("regulatoryauthority", "authority_type"): "Scope of the authority.",
    ("regulatoryauthority", "website"): "Web site of the authority.",
    ("regulatoryauthority", "is_active"): "Whether the authority still operates (true when not given).",
    ("setuptype", "name"): "Name given to this kind of setup.",
    ("setuptype", "category"): "One-letter code of the preparation category the setup type falls under (required on create, optional in a change).",
    ("species", "name"): "Name of the species.",
    ("strain", "name"): "Name of the strain.",
    ("strain", "species"): "Species the strain belongs to.",
    # --- dissemination ---
    ("journal", "name"): "Name of the journal.",
    ("journal", "website"): "Web site of the journal.",
    ("publication", "title"): "Title of the publication.",
    ("publication", "authors"): "Author list, as one text.",
    ("publication", "journal"): "Journal the publication appeared in.",
    ("publication", "abstract"): "Abstract of the publication.",
    ("publication", "doi"): "Digital Object Identifier (DOI) of the publication.",
    ("publication", "publication_url"): "Link to the publication online.",
    ("publication", "pdf_url"): "Link to a PDF of the publication.",
    ("publication", "publication_date"): "Date the publication appeared.",
    # --- users ---
    ("group", "id"): "Identifier of the group (an integer), assigned by the server.",
    ("group", "name"): "Name of the group.",
    ("group", "users"): "Members of the group keyed by e-mail address, with their manager/owner flags. In a change, flags left out count as false and remove: true drops the member.",
    ("group_membership_invitation", "user_account_invitation"): "User invited to join the group.",
    ("group_membership_invitation", "authgroup"): "Group the user is invited to.",
    ("group_membership_invitation", "new_manager"): "Whether the user becomes a manager of the group on accepting.",
    ("group_membership_invitation", "new_owner"): "Whether the user becomes an owner of the group on accepting.",
    ("group_membership_request", "user_account_request"): "User who asks to join the group.",
    ("group_membership_request", "authgroup"): "Group the user asks to join.",
    ("laboratory", "group"): "User group the laboratory is built on (its members are the lab members).",
    ("laboratory", "principal_investigators"): "Users who lead the laboratory; at least one.",
    ("laboratory", "website"): "Web site of the laboratory.",
    ("laboratory", "department"): "Department the laboratory belongs to.",
    ("laboratory", "institution"): "Institution (university, institute) hosting the laboratory.",
    ("laboratory", "city"): "City of the laboratory.",
    ("laboratory", "country"): "Country of the laboratory, in words.",
    ("user", "id"): "Identifier of the user account (an integer), assigned by the server.",
    ("user", "email"): "E-mail address of the user; unique, and the key of the user in project member maps.",
    ("user", "first_name"): "Given name of the user.",
    ("user", "last_name"): "Family name of the user.",
    ("user", "groups_own_json"): "Groups the user owns, each with its id and name.",
    ("user", "website"): "Personal web site of the user.",
    ("user", "google_scholar"): "Google Scholar profile of the user.",
    ("user", "orcid_id"): "ORCID identifier of the user.",
    ("user", "atlas_preference"): "Brain atlas the user prefers for brain regions (a short atlas code).",
    ("user", "active_projects"): "Projects the user currently works in.",
    # --- session data storage (undocumented through table) ---
    ("sessiondatastorage", "id"): "Identifier of the link record, assigned by the server.",
    ("sessiondatastorage", "session"): "Session whose data storage list this link belongs to.",
    ("sessiondatastorage", "datastorage"): "Data storage placed in the session's list.",
    ("sessiondatastorage", "order"): "Position of the data storage in the session's list (assumed: not documented).",
}

# Approval-only fields (the other fields of a proposal repeat the model's).
APPROVAL_FIELDS = {
    "action": "What the proposal does to the catalogue: Add a new record, Change or Delete an existing one.",
    "status": "Review state of the proposal: Pending until a reviewer accepts or rejects it.",
}

# Examples the docs give for a field (facts); carried into `example`.
EXAMPLES = {
    ("session", "date_time"): "2023-03-22T15:30:00Z",
    ("subject", "birth_date"): "2023-03-22",
    ("subject", "death_date"): "2023-03-22",
    ("subject", "status"): "active",
    ("consumablestock", "status"): "AVAILABLE",
    ("consumablestock", "acquisition_date"): "2023-03-22",
    ("consumablestock", "expiration_date"): "2023-03-22",
    ("publication", "publication_date"): "2023-03-22",
}

# ============================================================================
# Shared (non-model) schemas: (schema, property) -> meaning.
# ============================================================================
SHARED = {
    ("DownloadLink", "repository"): "Service hosting the download.",
    ("DownloadLink", "url"): "Address of the download; must start with `http://`, `https://` or `ftp://`.",
    ("ProjectMemberPermissions", "can_change"): "Whether the member may edit the project's records.",
    ("ProjectMemberPermissions", "is_manager"): "Whether the member manages the project (may change memberships).",
    ("ProjectMemberPermissions", "is_owner"): "Whether the member owns the project.",
    ("ProjectMemberPermissions", "remove"): "Send true in a change to drop this member from the project.",
    ("GroupMemberPermissions", "is_manager"): "Whether the member manages the group (may invite and remove members).",
    ("GroupMemberPermissions", "is_owner"): "Whether the member owns the group.",
    ("GroupMemberPermissions", "remove"): "Send true in a change to drop this member from the group.",
    ("OwnedGroup", "id"): "Identifier of the owned group.",
    ("OwnedGroup", "name"): "Name of the owned group.",
    ("DataOrganizationElement", "elements"): "What this folder level holds, for example Sessions or Subjects.",
    ("DataProtocol", "protocol"): "Name of the access method, for example a cloud service or a local hard drive.",
    ("DataProtocol", "path"): "Path or address of the storage under this protocol.",
    ("DataProtocol", "is_public"): "Whether this access path is open to the public.",
    ("SetupSpecification", "name"): "Name of the specified property.",
    ("SetupSpecification", "value"): "Value of the property: text or a number.",
    ("SetupSpecification", "description"): "Optional explanation of the property.",
    ("DeviceAuthorizationRequest", "client_name"): "Label of the client asking for a token; it names the token in the user's account.",
    ("DeviceAuthorization", "device_code"): "Secret code the client sends when polling for the token.",
    ("DeviceAuthorization", "user_code"): "Short code the user confirms in the browser.",
    ("DeviceAuthorization", "verification_uri"): "Page where the user approves the sign-in (the code is typed in).",
    ("DeviceAuthorization", "verification_uri_complete"): "Page where the user approves the sign-in, with the code already filled in.",
    ("DeviceAuthorization", "session_id"): "Identifier of the sign-in session, part of the verification page address.",
    ("DeviceTokenRequest", "device_code"): "The device_code received when the sign-in started.",
    ("DeviceTokenPending", "status"): "Always authorization_pending: the user has not approved yet.",
    ("DeviceTokenSuccess", "status"): "Always success: the user approved.",
    ("DeviceTokenSuccess", "token"): "Personal access token to send as a Bearer token.",
    ("DeviceTokenError", "error"): "Why no token came: the user refused, the code expired or it was already used.",
}

# Log entry shapes (ProcedureLogEntry, SubjectLogEntry, their Input forms, LogEntryChange, LogEntryKey).
LOG_ENTRY = {
    "date_time": "Moment of the entry; also the key of an instantaneous entry.",
    "start_date_time": "Start of an interval entry; also its key.",
    "end_date_time": "End of an interval entry.",
    "notes": "Free-text remarks on the entry.",
    "details": "Type-specific measurements of the entry; its shape is chosen by the log's `type`.",
}
LOG_ENTRY_KEY = {
    "date_time": "date_time of the entry to address (instantaneous entries).",
    "start_date_time": "start_date_time of the entry to address (interval entries).",
}

# ============================================================================
# Typed details payloads: meaning by JSON key; DETAIL_BY_TYPE overrides per (group, type, key).
# ============================================================================
DETAILS = {
    "acousticIntensity": "Acoustic intensity delivered at the target.",
    "acousticPressure": "Peak acoustic pressure at the target.",
    "activeIngredient": "Active substance of the agent.",
    "agitation": "How the sample is moved during clearing.",
    "alignment": "How the head is aligned in the fixation device.",
    "aliquotCount": "Number of aliquots the solution is split into.",
    "aliquotVolume": "Volume of each aliquot.",
    "amount": "Quantity held, as text with its unit (for example 500 mL).",
    "amplitude": "Stimulus amplitude.",
    "analgesic": "Pain-relief agent given with the inhalation.",
    "anchoringMethod": "How the implant is fixed in place.",
    "anestheticAgent": "Anesthetic used.",
    "apAngle": "Angle of the approach in the anterior-posterior direction.",
    "apCoordinate": "Anterior-posterior coordinate, relative to the reference point of the coordinate system.",
    "application": "Techniques the reagent is validated for.",
    "assayPanel": "Genotyping panel or assay used.",
    "attachmentMethod": "How the piece is attached to the skull.",
    "averages": "Number of scans averaged per image.",
    "axialResolution": "Resolution along the beam (depth) axis.",
    "bandwidth": "Spectral bandwidth of the light source.",
    "barbiturate": "Barbiturate used.",
    "batchId": "Batch or lot number from the supplier.",
    "bitDepth": "Bits per audio sample.",
    "bladeType": "Kind of blade used for cutting.",
    "brainWeight": "Mass of the brain once removed.",
    "buffer": "Buffer the tissue is cut in.",
    "bufferTemperature": "Temperature of the buffer during cutting.",
    "cageId": "Identifier of the cage.",
    "cageType": "Kind of cage.",
    "carrierGas": "Gas that carries the odor.",
    "catheterId": "Identifier of the catheter (product or lab id).",
    "catheterMaterial": "Material of the catheter.",
    "catheterType": "Kind of catheter.",
    "centerWavelength": "Central wavelength of the light source.",
    "chamberVolume": "Inner volume of the chamber.",
    "channels": "Channels the measured values belong to, in the same order.",
    "channelTags": "Labels attached to sets of channels: table rows, each naming a tag with its channels and groups.",
    "chemicalType": "Class of chemical.",
    "clearingDuration": "How long the clearing lasted.",
    "clearingMethod": "Clearing protocol applied to the tissue.",
    "clonality": "Whether the antibody is monoclonal, polyclonal or otherwise.",
    "closedLoop": "Whether the parameters were adjusted in real time from feedback (closed-loop control).",
    "co2Concentration": "CO2 concentration in the chamber.",
    "coating": "Coating of the optical component.",
    "codec": "Codec used to encode the audio.",
    "compatibleWith": "Equipment or systems the device works with.",
    "complications": "Complications or adverse events, in words.",
    "componentType": "Kind of optical component.",
    "composition": "Ingredients of the solution and their amounts, in words.",
    "compoundName": "Name of the chemical compound.",
    "compression": "Compression applied to the stored data.",
    "concentration": "Concentration of the agent.",
    "confirmationOfDeath": "Checks done to confirm death (several may be selected).",
    "conjugate": "Label or tag conjugated to the reagent.",
    "connectivity": "How the device connects (connector, interface).",
    "constructionMethod": "How the piece was built.",
    "contactType": "Kind of contact used to touch the subject.",
    "coolingMethod": "How overheating is prevented while drilling.",
    "cuffMaterial": "Material of the nerve cuff.",
    "cuffType": "Kind of nerve cuff.",
    "cutoffLatency": "Longest exposure before the stimulus is stopped automatically, so that tissue is not harmed.",
    "cuttingSpeed": "Advance speed of the blade.",
    "decapitationMethod": "How decapitation was done.",
    "deliveryMethod": "How the stimulus or agent is delivered.",
    "depth": "Depth below the reference.",
    "deviceClass": "Class of consumable device.",
    "diameter": "Diameter of the hole.",
    "dilution": "Working dilution of the reagent, such as 1:500.",
    "dimensions": "Size of the item (length, width, diameter...), as text.",
    "dislocationMethod": "How the cervical dislocation was done.",
    "displacement": "Distance moved.",
    "dosage": "Dose given.",
    "dosageForm": "Physical form of the agent.",
    "drillSpeed": "Rotation speed of the drill.",
    "duration": "How long the stimulus, delivery or step lasted.",
    "dutyCycle": "Fraction of each period during which the stimulus is on (0 to 1).",
    "dvAngle": "Angle of the approach in the dorsal-ventral direction.",
    "dvCoordinate": "Dorsal-ventral coordinate, relative to the reference point of the coordinate system.",
    "dyeType": "Kind of tracer or dye.",
    "electrodeCount": "Number of reference or ground electrodes.",
    "electrodeDiameter": "Diameter of the electrode.",
    "electrodeGroups": "Grouping of recording channels: table rows, each with a label and its list of channels.",
    "electrodeMaterial": "Material of the electrodes.",
    "electrodeType": "Kind of EEG electrode.",
    "embeddingMedium": "Medium the tissue is embedded in before cutting.",
    "emissionPeak": "Wavelength of peak emission.",
    "endOfAnesthesia": "Time of day the anesthesia ended.",
    "enrichment": "Enrichment items in the cage.",
    "excitationPeak": "Wavelength of peak excitation.",
    "excitationWavelength": "Wavelength of the excitation light.",
    "experimentalUse": "Experiments the item is used for.",
    "exposureDuration": "How long the subject was exposed.",
    "externalPort": "How the catheter is accessed from outside.",
    "extractionMethod": "How the brain was taken out.",
    "fatalOutcome": "Whether the procedure ended in the death of the subject.",
    "fiberId": "Identifier of the implanted fiber.",
    "fiberIds": "Identifiers of the optic fibers in this stock.",
    "fiberTipShape": "Shape of the fiber tip.",
    "fileName": "Name of the data file, with its extension.",
    "fixationDetails": "Further details of the head fixation, in words.",
    "fixationDuration": "How long the tissue was fixed.",
    "fixationMethod": "How it is fixed in place.",
    "fixationTime": "How long the tissue was fixed before clearing.",
    "flowRate": "Rate of flow.",
    "fluorophore": "Fluorescent molecule of the tracer.",
    "foodAmount": "Amount of food eaten.",
    "force": "Contact force.",
    "format": "File format of the data (such as WAV, MP4 or TIFF).",
    "formulation": "Formulation of the agent.",
    "frameRate": "Frames recorded per second.",
    "frequency": "Frequency.",
    "gradualIntroduction": "Whether CO2 was let in gradually rather than all at once.",
    "habituationMethod": "How the subject was habituated.",
    "handlingMethod": "How the subject was handled.",
    "hazardInfo": "Hazards and safety notes, in words.",
    "headcapId": "Identifier of the headcap.",
    "headpostId": "Identifier of the headpost.",
    "horizontalResolution": "Image width in pixels.",
    "hostSpecies": "Host animal species that produced the antibody.",
    "imagingCompatible": "Whether the cleared tissue suits imaging.",
    "imagingDepth": "Depth reached by the imaging.",
    "impedance": "Electrode impedance.",
    "impedances": "Measured impedance values, one per electrode channel (non-negative).",
    "implantMethod": "How the implant was placed.",
    "implantName": "Name of the implant.",
    "implantSite": "Where the implant is placed on the body.",
    "implantType": "Kind of implant.",
    "inhalationPhase": "Breathing phase the odor is timed to.",
    "injectionMethod": "How the injection was given.",
    "injectionPolarity": "Polarity or direction of the delivered current or field.",
    "injectionProfile": "Time course of the injection.",
    "injectionRate": "Rate of injection.",
    "injectionSide": "Side of the body or brain injected.",
    "injectionVolume": "Volume injected.",
    "laserPower": "Power of the laser or light source.",
    "latency": "Time until the subject responded.",
    "lateralResolution": "Resolution across the beam.",
    "length": "Length of the wire.",
    "lensId": "Identifier of the lens.",
    "lensTipType": "Kind of lens tip.",
    "lesionMethod": "How the lesion was made.",
    "lightCycle": "Light/dark cycle of the housing.",
    "liquidAgent": "Liquid or drug delivered.",
    "location": "Where the subject is housed.",
    "lociResults": "Result per genetic locus: table rows.",
    "lsb": "Voltage step of one bit of the recorded samples (least significant bit): the scale that converts samples to volts.",
    "magneticFieldStrength": "Field strength of the scanner magnet.",
    "material": "Material the item is made of.",
    "medium": "Medium the slices are kept in.",
    "mlAngle": "Angle of the approach in the medial-lateral direction.",
    "mlCoordinate": "Medial-lateral coordinate, relative to the reference point of the coordinate system.",
    "modalities": "Senses stimulated together.",
    "modulationFrequency": "Frequency of the amplitude or frequency modulation.",
    "molecularWeight": "Molar mass of the compound.",
    "monitoringMethod": "How the depth of anesthesia was monitored (several may be selected).",
    "mountingMethod": "How the piece is mounted.",
    "muscleTargets": "Muscles the electrodes are placed in.",
    "nChannels": "Number of recorded channels.",
    "nFrames": "Number of frames recorded.",
    "nSamples": "Number of samples per channel.",
    "nSlices": "Number of slices cut.",
    "numberOfSections": "Number of sections cut.",
    "nWiresTetrode": "Number of wires in each tetrode.",
    "observation": "What was seen, described in words.",
    "observationType": "Kind of observation.",
    "odor": "Odor presented.",
    "odorants": "Names of the odorants used, as one text.",
    "orientation": "Orientation of the cut or opening.",
    "osmolality": "Osmolality of the solution, as text with its unit.",
    "oxygenFlowRate": "Flow rate of the oxygen given with the inhalant.",
    "paradigmDescription": "The stimulation paradigm, in words.",
    "performance": "How well the subject performed, in words.",
    "perfusionMethod": "How the perfusion was done.",
    "pH": "Acidity of the solution (pH).",
    "pharmacologicalCategory": "Pharmacological category of the agent.",
    "pharmacologicalClass": "Pharmacological class of the agent.",
    "phases": "Measured phase angles, one per channel.",
    "placementSite": "Where the reference electrode is placed.",
    "power": "Light power at the fiber tip.",
    "powerSource": "Power supply of the implant.",
    "prefillingMethod": "How the chamber was filled before the subject went in.",
    "preparationInstructions": "How to prepare the item before use, in words.",
    "presentationDevice": "Device the visual stimulus is shown on.",
    "preservationMethod": "How the extracted brain was preserved.",
    "prismId": "Identifier of the prism.",
    "probeId": "Identifier of the implanted probe.",
    "probeIds": "Identifiers of the silicon probes in this stock.",
    "productId": "Product or catalogue number.",
    "profile": "Waveform or time profile of the delivery.",
    "protocol": "Restriction protocol followed.",
    "purity": "Purity of the compound, as text (for example 99%).",
    "purpose": "Why it was done.",
    "qcConfidence": "Confidence of the quality control of the call.",
    "quantity": "Number of units in stock.",
    "reactivity": "Species the reagent reacts with.",
    "reagentType": "Kind of immunoreagent.",
    "recoveryTime": "Time from the end of anesthesia until the subject recovered.",
    "referencingScheme": "Recording reference scheme of the EEG.",
    "refractiveIndexMatching": "Medium used to match the refractive index.",
    "reinforcementType": "Kind of reward or reinforcement.",
    "repetitions": "How many times the stimulus or delivery was repeated.",
    "responseScore": "Score of the response.",
    "responsiblePerson": "Person responsible for the restriction.",
    "result": "Overall genotyping result.",
    "rotation": "Rotation of the implant around its own axis.",
    "route": "Route of administration.",
    "routeOfAdministration": "Route by which the agent is given.",
    "routeOfApplication": "Route by which the tracer is applied.",
    "sample": "Tissue sample the genotyping used (an ear punch or a tail tip, for example).",
    "scanArea": "Area covered by the scan.",
    "scanPattern": "Scan pattern used.",
    "sectioningOrientation": "Plane the sections are cut in.",
    "sectionInterval": "Which sections are kept: every Nth one (1 keeps all, 3 keeps one in three).",
    "sectionQuality": "How good the cut sections turned out.",
    "sectionThickness": "Thickness of each section.",
    "sedationAgent": "Sedative given first.",
    "sedative": "Sedative given with the inhalation.",
    "sensorType": "Kind of sensor.",
    "serialSectioning": "Whether consecutive sections were kept in order.",
    "setup": "Setup used for the training.",
    "shape": "Shape of the item or opening.",
    "shielding": "Electrical shielding used.",
    "signalTransmission": "How the signal leaves the subject (wired or wireless).",
    "site": "Body site stimulated.",
    "skullPreparation": "How the skull was prepared before attachment.",
    "solutionName": "Name of the solution.",
    "solvent": "Solvent the tracer is dissolved in.",
    "sr": "Sampling rate of the recording.",
    "sterile": "Whether the item is sterile.",
    "sterilizationMethod": "How the implant was sterilized.",
    "stimulationContext": "State of the subject during stimulation.",
    "stimulationPosition": "Where the stimulus appears in the visual field.",
    "stimulationSite": "Body site stimulated.",
    "stimulusForce": "Force of the filament applied.",
    "stimulusLocation": "Where on the body the stimulus was applied.",
    "stimulusTypes": "Kinds of stimuli presented (several may be given).",
    "storageBuffer": "Buffer the sections are stored in.",
    "storageConditions": "How the tissue is stored.",
    "storageMethod": "How the sections are stored.",
    "supportiveCare": "Supportive care given during anesthesia (several may be selected).",
    "surgicalMethod": "Surgical technique used to open the skull.",
    "synchronization": "How the stimuli of the different senses are timed to each other.",
    "targetAntigen": "Antigen the reagent binds.",
    "targetNerve": "Nerve the cuff is placed on.",
    "targetSite": "Vessel or site the catheter reaches.",
    "task": "Task trained.",
    "temperature": "Temperature during the step.",
    "tetrode_1": "Position (advance along its track) of tetrode 1 at this entry.",
    "tetrode_2": "Position (advance along its track) of tetrode 2 at this entry.",
    "tetrode_3": "Position (advance along its track) of tetrode 3 at this entry.",
    "tetrode_4": "Position (advance along its track) of tetrode 4 at this entry.",
    "tetrode_5": "Position (advance along its track) of tetrode 5 at this entry.",
    "tetrode_6": "Position (advance along its track) of tetrode 6 at this entry.",
    "tetrode_7": "Position (advance along its track) of tetrode 7 at this entry.",
    "tetrode_8": "Position (advance along its track) of tetrode 8 at this entry.",
    "tetrodeCount": "Number of tetrodes implanted.",
    "thickness": "Thickness of each slice.",
    "timeToExtraction": "Time from death to extraction of the brain.",
    "timeToUnconsciousness": "Time until the subject lost consciousness.",
    "tissueType": "Kind of tissue cleared.",
    "titer": "Viral titer.",
    "topicalAnesthesia": "Local anesthetic put on the fixation points, if any.",
    "trackedFeatures": "Body parts or features tracked.",
    "trackingMethod": "How the behavior was tracked.",
    "transparency": "Degree of transparency reached.",
    "type": "Numeric data type of the stored samples, such as int16.",
    "verticalResolution": "Image height in pixels.",
    "vibratomeBladeAngle": "Angle of the vibratome blade.",
    "volume": "Volume delivered.",
    "volumeAdministered": "Volume given.",
    "waterAmount": "Amount of water drunk.",
    "wavelength": "Wavelength of the light.",
    "wavelengthMax": "Longest wavelength the component is made for.",
    "wavelengthMin": "Shortest wavelength the component is made for.",
    "weight": "Body weight of the subject.",
    "wellness": "Health status of the subject, described in words.",
    "wireCount": "Number of wires implanted.",
    "wireDiameter": "Diameter of the wire.",
    "wireExitRoute": "Route the cuff wires take out of the body.",
    "wireIds": "Identifiers of the wires in this stock.",
    "wireInsulation": "Insulation of the wires.",
    "wireMaterial": "Material of the wires.",
    "x": "Position along the x axis of the coordinate system.",
    "xAngle": "Rotation about the x axis.",
    "xVoxelSize": "Voxel size along x.",
    "y": "Position along the y axis of the coordinate system.",
    "yAngle": "Rotation about the y axis.",
    "yVoxelSize": "Voxel size along y.",
    "z": "Position along the z axis of the coordinate system.",
    "zAngle": "Rotation about the z axis.",
    "zVoxelSize": "Voxel size along z (the step between planes).",
}

DETAIL_BY_TYPE = {
    ("Procedure", "Anesthesia", "depth"): "Depth of anesthesia reached.",
    ("Procedure", "Anesthesia", "duration"): "How long the anesthesia lasted.",
    ("Procedure", "Anesthesia", "dosage"): "Dose given, as text (for example 2% in oxygen, or 100 mg/kg).",
    ("Procedure", "BarbiturateInjection", "dosage"): "Dose per body mass.",
    ("Procedure", "BrainSlice", "orientation"): "Plane the slices are cut in.",
    ("Procedure", "Cryosectioning", "orientation"): "Plane the sections are cut in.",
    ("Procedure", "Cryosectioning", "temperature"): "Temperature of the cryostat chamber.",
    ("Procedure", "TissueClearing", "temperature"): "Temperature during clearing.",
    ("Procedure", "BurrHole", "purpose"): "Why the hole was drilled (electrode, injection...).",
    ("Procedure", "CatheterImplant", "purpose"): "Uses of the catheter (several may be given).",
    ("Procedure", "CatheterImplant", "fixationMethod"): "How the catheter is secured (several may be given).",
    ("Procedure", "HeadFixation", "fixationMethod"): "How the head is held.",
    ("Procedure", "BrainLesion", "volume"): "Volume injected to make the lesion.",
    ("Procedure", "PerfusionFixation", "volume"): "Volume of fixative perfused.",
    ("Procedure", "AuditoryStimulation", "deliveryMethod"): "How the sound reaches the subject.",
    ("Procedure", "CranialWindow", "dimensions"): "Size of the window, as text.",
    ("Procedure", "CranialWindow", "shape"): "Shape of the window.",
    ("Procedure", "CranialWindow", "orientation"): "Orientation of the window relative to skull landmarks.",
    ("Procedure", "Craniectomy", "orientation"): "Orientation of the opening relative to skull landmarks.",
    ("Procedure", "Craniotomy", "orientation"): "Orientation of the opening relative to skull landmarks.",
    ("ConsumableStock", "PhysiologicalSolution", "purpose"): "What the solution is used for.",
    ("ConsumableStock", "PhysiologicalSolution", "sterile"): "True when the solution has been sterilized.",
    ("ProcedureLog", "Impedances", "channels"): "Channel numbers the values belong to, in the same order as impedances.",
    ("ProcedureLog", "LinearDisplacement", "displacement"): "Distance of the device from its reference position (for example its depth along the track).",
    ("SubjectLog", "VonFreyTest", "responseScore"): "Scored reaction to the filament: 0 none, 1 slight movement, 2 strong withdrawal, 3 flinching or escape.",
    ("SubjectLog", "HargreavesTest", "responseScore"): "Scored reaction to the heat: 0 none, 1 delayed movement, 2 normal withdrawal, 3 exaggerated or escape behavior.",
    ("SubjectLog", "TrainingSession", "setup"): "Setup the training took place on, in words.",
    ("SubjectLog", "HargreavesTest", "repetitions"): "Number of trials at the same location.",
    ("SubjectLog", "VonFreyTest", "repetitions"): "Number of trials at the same location.",
    ("SubjectLog", "GenericObservation", "repetitions"): "Number of times the observation was made under the same condition.",
    ("Manipulation", "OptogeneticStimulation", "wavelength"): "Wavelength of the stimulation light.",
}

# Widget hints of the details pages (x-brainstem-widget) -> a short format note.
WIDGET = {
    "textarea": "Free text, may span several lines.",
    "text": "Short free text.",
    "checkbox": None,  # boolean or multi-select: said by the type fact
    "select": None,
    "table": None,
    "numberUnit": None,
}


# ============================================================================
# Facts from the schema itself
# ============================================================================

def _code_list(values, limit=8):
    vals = [v for v in values if v is not None]
    if len(vals) <= limit:
        return ", ".join(f"`{v}`" for v in vals)
    return None


def _num(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _unit_list(units):
    return ", ".join(units)


def facts(p: dict, *, model_names: dict, required: bool, where: str) -> list[str]:
    """Sentences of facts about property schema `p` (own words, from the schema)."""
    out: list[str] = []
    base = p
    if "allOf" in p and len(p["allOf"]) == 1:
        base = dict(p["allOf"][0], **{k: v for k, v in p.items() if k != "allOf"})
    t = base.get("type")
    fmt = base.get("format")
    rel = base.get("x-brainstem-related")
    if rel:
        target = model_names.get(rel, rel)
        idk = "integer id" if (base.get("type") == "integer" or
                              (base.get("items") or {}).get("type") == "integer") else "UUID"
        if t == "array":
            out.append(f"List of {target} ids ({idk}s, `{rel}`).")
        else:
            out.append(f"{target} id ({idk}, `{rel}`).")
    elif base.get("x-brainstem-related-undocumented"):
        out.append("List of UUIDs.")
    elif "x-brainstem-quantity" in base:
        units = base["properties"]["unit"].get("enum", [])
        out.append(f"A measured value: number plus unit ({_unit_list(units)}).")
        if "x-brainstem-default-unit" in base:
            out.append(f"The form's default unit is {base['x-brainstem-default-unit']}.")
    elif t == "string":
        if fmt == "uuid":
            out.append("UUID.")
        elif fmt == "date":
            out.append("ISO 8601 date (YYYY-MM-DD).")
        elif fmt == "date-time":
            out.append("ISO 8601 date and time.")
        elif fmt == "time":
            out.append("Time of day (HH:MM or HH:MM:SS).")
        elif fmt == "uri":
            out.append("URL.")
        elif fmt == "email":
            out.append("E-mail address.")
    elif t == "array":
        items = base.get("items") or {}
        it = items.get("type")
        if "$ref" in items:
            out.append(f"List of `{items['$ref'].split('/')[-1]}` objects.")
        elif it == "object":
            out.append("List of objects.")
        elif it == "string" and "enum" in items:
            vals = _code_list(items["enum"])
            out.append(f"List of values, each one of: {vals}." if vals
                       else f"List of values, each one of {len(items['enum'])} documented choices.")
        elif it == "string":
            out.append("List of text values.")
        elif it in ("number", "integer"):
            out.append(f"List of {'numbers' if it == 'number' else 'integers'}.")
        if base.get("uniqueItems"):
            out.append("No value may appear twice.")
    elif t == "boolean":
        pass
    elif t == "integer":
        out.append("Integer.")
    elif t == "number":
        out.append("Number.")
    if "enum" in base and "x-brainstem-quantity" not in base and t != "array":
        vals = _code_list(base["enum"])
        if vals:
            out.append(f"One of {vals}.")
        else:
            out.append(f"One of {len(base['enum'])} documented values.")
    if "$ref" in base and base["$ref"].endswith("Type"):
        out.append(f"One of the values of `{base['$ref'].split('/')[-1]}`.")
    lo, hi = base.get("minimum"), base.get("maximum")
    if lo is not None and hi is not None:
        out.append(f"From {_num(lo)} to {_num(hi)}.")
    elif lo is not None:
        out.append(f"At least {_num(lo)}.")
    elif hi is not None:
        out.append(f"At most {_num(hi)}.")
    if base.get("maxLength") is not None:
        n = base["maxLength"]
        out.append(f"At most {n} character{'s' if n != 1 else ''}.")
    if base.get("minLength"):
        out.append(f"At least {base['minLength']} characters.")
    if base.get("minItems"):
        n = base["minItems"]
        out.append(f"At least {n} item{'s' if n != 1 else ''}.")
    if base.get("maxItems") is not None:
        out.append(f"At most {base['maxItems']} items.")
    w = base.get("x-brainstem-widget")
    if w and WIDGET.get(w):
        out.append(WIDGET[w])
    if "default" in base and not isinstance(base["default"], (dict, list)):
        d = base["default"]
        d = "true" if d is True else "false" if d is False else d
        out.append(f"Default: {d}.")
    elif isinstance(base.get("default"), dict) and "unit" in base["default"]:
        dv = base["default"]
        if "value" in dv:
            out.append(f"Default: {_num(dv['value'])} {dv['unit']}.")
    if base.get("x-brainstem-unique"):
        out.append("Must be unique.")
    if base.get("readOnly"):
        out.append("Read-only: set by the server, ignored when sent.")
    elif base.get("writeOnly"):
        out.append("Write-only: only sent, never returned.")
    elif required:
        out.append("Required on create." if where == "model" else "Required.")
    if base.get("nullable"):
        out.append("May be null.")
    return out


def _join(meaning: str, fs: list[str]) -> str:
    text = " ".join([meaning.strip()] + [f for f in fs if f])
    text = re.sub(r"\s+", " ", text).strip()
    _check(text)
    return text


def _check(text: str):
    if re.search(r"[\[\]<>]", text) or re.search(r"(?<![<`])(https?|ftp)://\w", text):
        raise ValueError(f"description not safe for rustdoc: {text!r}")


def _has(p: dict) -> bool:
    return bool(str(p.get("description", "")).strip())


def _humanize(key: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key).replace("_", " ").split()
    return " ".join(words).capitalize()


# ============================================================================
# The pass
# ============================================================================

def describe(spec: dict, models: list, details_pages: dict) -> dict:
    """Fill in missing property descriptions everywhere under components.schemas and add
    x-brainstem-docs-url to model, approval and details schemas. Returns counts."""
    schemas = spec["components"]["schemas"]
    model_rows = {f"{m[1]}/{m[0]}": m for m in models}
    model_names = {ref: row[4] for ref, row in model_rows.items()}
    model_names["stem/epoch"] = "epoch"
    stats = {"filled": 0, "kept": 0, "fallback": []}

    def put(prop: dict, text: str):
        if prop.get("description", "").strip():
            stats["kept"] += 1
            return
        # description first, so the diff of a property only adds a line
        items = list(prop.items())
        prop.clear()
        prop["description"] = text
        prop.update(items)
        stats["filled"] += 1

    def model_meaning(key: str, display: str, field: str) -> str | None:
        if (key, field) in MODEL_FIELDS:
            return MODEL_FIELDS[(key, field)]
        if field in COMMON:
            return COMMON[field].format(model=display)
        return None

    def display_of(name: str) -> str:
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()

    for name, sch in schemas.items():
        model_ref = sch.get("x-brainstem-model") or sch.get("x-brainstem-approval-for")
        if model_ref and model_ref in model_rows or name == "SessionDataStorage":
            if name == "SessionDataStorage":
                key, display = "sessiondatastorage", "link"
            else:
                row = model_rows[model_ref]
                key, display = row[0], display_of(row[4])
                url = model_docs_url(row[1], row[2])
                _insert_after(sch, "x-brainstem-docs-url", url,
                              "x-brainstem-model" if "x-brainstem-model" in sch else "x-brainstem-approval-for")
            approval = "x-brainstem-approval-for" in sch
            req = set(sch.get("required", []))
            for field, p in sch.get("properties", {}).items():
                if _has(p):
                    stats["kept"] += 1
                    continue
                meaning = None
                if approval and field in APPROVAL_FIELDS:
                    meaning = APPROVAL_FIELDS[field]
                if meaning is None:
                    meaning = model_meaning(key, display, field)
                if meaning is None:
                    stats["fallback"].append(f"{name}.{field}")
                    meaning = _humanize(field) + "."
                if approval and field == "id":
                    meaning = "Identifier of the proposal, assigned by the server."
                put(p, _join(meaning, facts(p, model_names=model_names, required=field in req, where="model")))
                if (key, field) in EXAMPLES and "example" not in p:
                    _insert_after(p, "example", EXAMPLES[(key, field)], "description")
                _nested(p, name, field, model_names, put, stats)
        elif "x-brainstem-schema" in sch:
            group, tname = sch["x-brainstem-schema"].split("/", 1)
            page = details_pages.get(group)
            if page:
                _insert_after(sch, "x-brainstem-docs-url", schemas_docs_url(page), "x-brainstem-schema-version")
            obj = sch.get("items", sch)
            req = set(obj.get("required", []))
            for field, p in obj.get("properties", {}).items():
                if _has(p):
                    stats["kept"] += 1
                    continue
                meaning = DETAIL_BY_TYPE.get((group, tname, field)) or DETAILS.get(field)
                if meaning is None:
                    stats["fallback"].append(f"{name}.{field}")
                    meaning = _humanize(field) + "."
                put(p, _join(meaning, facts(p, model_names=model_names, required=field in req, where="details")))
                _nested(p, name, field, model_names, put, stats)
        elif name.endswith("ListEnvelope"):
            target = name.removesuffix("ListEnvelope")
            for field, p in sch.get("properties", {}).items():
                meaning = ENVELOPE_LIST.get(field)
                if meaning is None:
                    meaning = f"The {_what(target)} records of this page, in the requested order."
                put(p, _join(meaning, facts(p, model_names=model_names, required=False, where="envelope")))
        elif name.endswith("Envelope") and "properties" in sch:
            target = name.removesuffix("Envelope")
            for field, p in sch["properties"].items():
                put(p, _join(f"The {_what(target)} record, under its envelope key.", []))
        else:
            req = set(sch.get("required", []))
            for field, p in sch.get("properties", {}).items():
                if _has(p):
                    stats["kept"] += 1
                    continue
                if (name, field) in SHARED:
                    meaning = SHARED[(name, field)]
                elif name in ("LogEntryKey",) and field in LOG_ENTRY_KEY:
                    meaning = LOG_ENTRY_KEY[field]
                elif "LogEntry" in name and field in LOG_ENTRY:
                    meaning = LOG_ENTRY[field]
                else:
                    stats["fallback"].append(f"{name}.{field}")
                    meaning = _humanize(field) + "."
                put(p, _join(meaning, facts(p, model_names=model_names, required=field in req, where="shared")))
                _nested(p, name, field, model_names, put, stats)
    return stats


ENVELOPE_LIST = {
    "count": "Number of records matching the query over all pages.",
    "next": "Address of the next page (same query, offset moved on); null on the last page.",
    "previous": "Address of the previous page; null on the first page.",
    "meta": "Extra paging information some servers add (free-form; not documented).",
}


def _what(schema_name: str) -> str:
    if schema_name.endswith("Approval"):
        return f"{schema_name.removesuffix('Approval')} approval"
    return schema_name


def _nested(p: dict, name: str, field: str, model_names: dict, put, stats):
    """Describe properties nested in `p` (quantity value/unit, object items)."""
    base = p
    if "x-brainstem-quantity" in base and "properties" in base:
        units = base["properties"]["unit"].get("enum", [])
        put(base["properties"]["value"], _join(f"Amount of {field}, expressed in `unit`.", ["Number."]))
        put(base["properties"]["unit"],
            _join(f"Unit of `value`: one of {_unit_list(units)}.", ["Required."]))
        return
    for sub in (base.get("properties") or {}):
        stats["fallback"].append(f"{name}.{field}.{sub}")
        put(base["properties"][sub], _join(_humanize(sub) + ".", []))
    items = base.get("items")
    if isinstance(items, dict):
        for sub in (items.get("properties") or {}):
            stats["fallback"].append(f"{name}.{field}[].{sub}")
            put(items["properties"][sub], _join(_humanize(sub) + ".", []))


def _insert_after(sch: dict, key: str, value, after: str):
    if key in sch:
        return
    items = list(sch.items())
    sch.clear()
    done = False
    for k, v in items:
        sch[k] = v
        if k == after:
            sch[key] = value
            done = True
    if not done:
        sch[key] = value
